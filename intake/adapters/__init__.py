"""The only importers of imapclient, smtplib, dkimpy and the blob store's file system."""
