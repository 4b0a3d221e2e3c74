"""Pure text work: charsets, HTML to text, safe file names, quoted text."""
