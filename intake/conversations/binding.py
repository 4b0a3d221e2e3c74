"""What a reply may decide for its submission: which of our letters it answers, whether its
sender is the contributor, and how authentic the answer is.

A reply is filed on a submission by its threading headers, its subject token ``[投稿 #N]`` or
its subject (``intake.ingest``): any of these can be forged or guessed, so filing decides
nothing. Consent, a new version of the article and the contributor's answer to a request for
information rest on this module's :class:`Binding` instead:

- **the letter it answers**: the nearest Message-ID in its In-Reply-To/References that we made
  (its HMAC verifies) and that belongs to one of our letters *for this submission* — only
  someone who received the letter knows it; or, when a web mail client dropped those headers,
  the confirmation code our copyright request and reminder print (``replies.render``), found
  in the reply's new text;
- **the sender**: the From address, normalised (``intake.text.addresses``), must be the
  submission's contributor or an address staff added (``intake contributor add-address``); a
  message with several From addresses has no sender;
- **authenticity**: ``dkim_aligned`` (a DKIM signature that verifies and whose ``d=`` aligns
  with the From domain, ``intake.text.domains``), ``request_bound`` (our Message-ID of the
  copyright request or reminder in its headers) or ``token_only`` (only the code). The first
  two are applied without an editor; ``token_only`` waits for one.

docs/consent.md says what each case does.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import getaddresses
from typing import TYPE_CHECKING

from intake.core.errors import StorageError, UsageError
from intake.core.events import DkimCheck, DkimVerifier, Ingested
from intake.core.ports import BlobReader
from intake.replies import render
from intake.store import consent as consent_store
from intake.store import submissions as submission_store
from intake.store.consent import SentLetter
from intake.store.models import Submission
from intake.text import domains, threads
from intake.text.addresses import (
    AddressError,
    normalise,
    normalised_or_empty,
    normalised_or_lower,
    same,
)
from intake.workflow import cases
from intake.workflow.submission import RIGHTS_LETTERS

if TYPE_CHECKING:
    from intake.store import Session

log = logging.getLogger(__name__)

#: Our Message-IDs looked up per reply (nearest first): a References header stuffed with
#: thousands of ids costs one bounded query.
MAX_OUR_IDS = 50
#: How much of the new text is searched for a confirmation code: the code is typed near the
#: answer, and a long text of guesses gets no more tries than a short one.
CODE_SEARCH_CHARS = 4000


class Authenticity(enum.StrEnum):
    """How an answer to our copyright request is known to be the contributor's."""

    DKIM_ALIGNED = "dkim_aligned"  # an aligned DKIM pass, and bound to the request
    REQUEST_BOUND = "request_bound"  # our request's (or reminder's) Message-ID in its headers
    TOKEN_ONLY = "token_only"  # only the confirmation code in its text


#: Answers at these levels are applied by themselves; a ``token_only`` one waits for an editor.
AUTOMATIC = frozenset({Authenticity.DKIM_ALIGNED, Authenticity.REQUEST_BOUND})


@dataclass(frozen=True, slots=True)
class Binding:
    """What one reply is bound to, who sent it and how authentic it is."""

    #: The nearest of our letters for this submission that its headers name.
    answers: SentLetter | None
    #: A copyright request or reminder of this submission whose code is in the new text.
    coded: SentLetter | None
    #: The id of the newest copyright request of this submission (0: none): a request or
    #: reminder older than it belongs to an earlier round, since replaced.
    current_request: int
    sender: str  # the From address normalised; "" when there is none, or several
    #: Why the sender speaks for the contributor ("" when not).
    contributor: str
    dkim: DkimCheck
    dkim_domain: str  # the d= of a verified signature aligned with the From domain
    new_text: str  # the reply's new text with the confirmation code taken out
    #: Our letters of other submissions named in its headers (noted, never used).
    foreign: tuple[SentLetter, ...] = ()
    #: Our letters of this submission that it names (by id or code) but that were sent to an
    #: address that is not the contributor's (a Reply-To): whoever holds them may be anyone,
    #: so they bind nothing (noted, never used).
    elsewhere: tuple[SentLetter, ...] = ()

    @property
    def from_contributor(self) -> bool:
        return bool(self.contributor)

    @property
    def rights_letter(self) -> SentLetter | None:
        """The copyright request or reminder it answers: named by its headers, else by code."""
        if self.answers is not None and self.answers.template in RIGHTS_LETTERS:
            return self.answers
        return self.coded

    @property
    def current(self) -> bool:
        """Whether the request or reminder it answers belongs to the current request."""
        letter = self.rights_letter
        return letter is not None and letter.id >= self.current_request

    @property
    def authenticity(self) -> Authenticity | None:
        """How the answer to our request is bound (None: it answers no request of ours)."""
        letter = self.rights_letter
        if letter is None:
            return None
        if self.dkim_domain:
            return Authenticity.DKIM_ALIGNED
        if letter is self.answers:
            return Authenticity.REQUEST_BOUND
        return Authenticity.TOKEN_ONLY

    @property
    def automatic(self) -> bool:
        """Whether an answer bound this way is applied without an editor."""
        return self.authenticity in AUTOMATIC

    @property
    def may_revise(self) -> bool:
        """Whether a document it brings may become the article's new version: from the
        contributor, and bound to one of our letters as firmly as an automatic answer."""
        return self.from_contributor and (
            self.answers is not None or (self.coded is not None and bool(self.dkim_domain))
        )

    def summary(self) -> str:
        """One line for the history: what it answers and how it is bound."""
        parts: list[str] = []
        if self.answers is not None:
            parts.append(f"answers outbox #{self.answers.id} ({self.answers.template})")
        if self.coded is not None and self.coded is not self.answers:
            parts.append(f"the code of outbox #{self.coded.id} ({self.coded.template})")
        if not parts:
            parts.append("answers none of our letters")
        if self.authenticity is not None:
            parts.append(str(self.authenticity))
        if self.dkim_domain:
            parts.append(f"DKIM d={self.dkim_domain}")
        if not self.from_contributor:
            parts.append(f"not from the contributor ({self.sender or 'no single sender'})")
        for letter in self.foreign:
            parts.append(f"names outbox #{letter.id} of submission #{letter.submission_id}")
        for letter in self.elsewhere:
            parts.append(
                f"names outbox #{letter.id} ({letter.template}), sent to {letter.to_addr}, "
                "not to the contributor: binds nothing"
            )
        return "; ".join(parts)

    def unbound(self) -> str:
        """Why it is no answer to our copyright request (for a flag)."""
        if self.elsewhere and self.answers is None:
            letter = self.elsewhere[0]
            return (
                f"the letter it names (outbox #{letter.id}, {letter.template}) went to "
                f"{letter.to_addr}, not to the contributor's address"
            )
        if self.answers is not None:
            return (
                f"it answers our {self.answers.template} (outbox #{self.answers.id}), not the "
                "copyright request, and carries no confirmation code"
            )
        return "it names none of our letters and carries no confirmation code"


class Binder:
    """Works out a reply's :class:`Binding`; everything it uses is passed in."""

    def __init__(self, secret: bytes, *, blobs: BlobReader, dkim: DkimVerifier) -> None:
        self.secret = secret
        self.blobs = blobs
        self.dkim = dkim

    def bind(self, session: Session, submission: Submission, item: Ingested, new: str) -> Binding:
        """The binding of the reply ``item`` (whose new text is ``new``) to ``submission``."""
        mailboxes = self._mailboxes(session, submission)
        answers, foreign, elsewhere = self._answers(session, submission.id, item, mailboxes)
        rights = consent_store.rights_letters(session, submission.id)
        requests = [r.id for r in rights if r.template == "copyright_request"]
        # A letter binds only the mailbox it went to: the code of a request sent elsewhere
        # (an old row, a Reply-To) proves nothing about the contributor.
        coded, text = self._coded([r for r in rights if r.to_addr in mailboxes], new)
        misdirected, text = self._coded([r for r in rights if r.to_addr not in mailboxes], text)
        if misdirected is not None and misdirected not in elsewhere:
            elsewhere = (*elsewhere, misdirected)
        sender = _single_sender(item)
        checked = self._dkim(item)
        domain = sender.rpartition("@")[2]
        aligned = next((d for d in checked.passed if domain and domains.aligned(d, domain)), "")
        return Binding(
            answers=answers,
            coded=coded,
            current_request=max(requests, default=0),
            sender=sender,
            contributor=mailboxes.get(sender, "") if sender else "",
            dkim=checked,
            dkim_domain=aligned,
            new_text=text,
            foreign=foreign,
            elsewhere=elsewhere,
        )

    def _answers(
        self, session: Session, submission_id: int, item: Ingested, mailboxes: dict[str, str]
    ) -> tuple[SentLetter | None, tuple[SentLetter, ...], tuple[SentLetter, ...]]:
        """The nearest of our letters for this submission, sent to the contributor, named in
        the headers; ours of other submissions named there; ours of this one sent elsewhere."""

        def ours(mid: str) -> bool:
            return render.verify_message_id(self.secret, mid)

        # The letter a reply answers is its nearest ids (In-Reply-To, the end of References):
        # ids stuffed beyond the first few hundred are not even checked.
        nearest = item.parsed.thread_ids[: MAX_OUR_IDS * 4]
        ids = [m for m in threads.canonical_ids(nearest, ours) if ours(m)][:MAX_OUR_IDS]
        named = consent_store.letters_named(session, ids)
        found = [named[m] for m in ids if m in named]
        here = [letter for letter in found if letter.submission_id == submission_id]
        mine = [letter for letter in here if letter.to_addr in mailboxes]
        elsewhere = tuple(letter for letter in here if letter.to_addr not in mailboxes)
        others = tuple(letter for letter in found if letter.submission_id != submission_id)
        return (mine[0] if mine else None), others, elsewhere

    def _coded(self, rights: list[SentLetter], new: str) -> tuple[SentLetter | None, str]:
        """The newest request or reminder whose code is in ``new``; ``new`` without codes."""
        found: SentLetter | None = None
        text = new
        for letter in reversed(rights):  # newest first
            code = render.confirmation_code(self.secret, letter.message_id)
            span = render.find_code(text[:CODE_SEARCH_CHARS], code)
            while span is not None:
                found = found or letter
                text = text[: span[0]] + " " + text[span[1] :]
                span = render.find_code(text[:CODE_SEARCH_CHARS], code)
        return found, text

    @staticmethod
    def _mailboxes(session: Session, submission: Submission) -> dict[str, str]:
        """The contributor's addresses, normalised, each with why it is theirs: their own and
        those staff added."""
        found = {
            a.address: f"an address {a.added_by or 'staff'} added"
            for a in consent_store.addresses_for(session, submission.id)
        }
        found[normalised_or_lower(submission.sender)] = "the contributor's address"
        found.pop("", None)
        return found

    def _dkim(self, item: Ingested) -> DkimCheck:
        """The signatures ingest checked before its transaction; checked here only when ingest
        had no verifier (no DNS lookup otherwise holds the transaction)."""
        if item.dkim.result:
            return item.dkim
        if item.parsed.header("DKIM-Signature") is None:
            return replace(item.dkim, result="none")
        if not item.raw_path:
            return DkimCheck("error: raw message not stored")
        try:
            raw = self.blobs.get(item.raw_path)
        except (StorageError, OSError) as exc:
            return DkimCheck(f"error: {exc}"[:50])
        try:
            checked = self.dkim(raw)
        except Exception as exc:  # noqa: BLE001 - evidence is recorded either way
            log.warning("DKIM check of message %d failed: %s", item.message_pk, exc)
            return DkimCheck(f"error: {type(exc).__name__}"[:50])
        return DkimCheck(checked.result[:50], checked.passed)


def _single_sender(item: Ingested) -> str:
    """The From address, normalised; "" when there is none, or more than one (a second From
    header or address is how a signed message is made to show another author)."""
    parsed = item.parsed
    values = list(parsed.header_all("From"))
    if parsed.sender is None or len(values) > 1:
        return ""
    if values and len([a for _name, a in getaddresses(values) if "@" in a]) > 1:
        return ""
    return normalised_or_empty(parsed.sender.addr)


# --------------------------------------------------------------------------- staff


@dataclass(frozen=True, slots=True)
class AddressChange:
    """What ``intake contributor add-address|remove-address`` did."""

    submission_id: int
    address: str  # normalised
    added: bool  # True: added; False: removed


def add_address(
    session: Session, submission_id: int, address: str, *, actor: str, now: datetime, note: str
) -> AddressChange:
    """Let replies from ``address`` count as the contributor's for a submission (a second
    mailbox of theirs): recorded in its history with who said so."""
    submission = submission_store.get_submission(session, submission_id, for_update=True)
    found = _address(address)
    if same(found, submission.sender):
        raise UsageError(f"submission {submission_id}: {found} is the contributor's own address")
    if any(a.address == found for a in consent_store.addresses_for(session, submission.id)):
        raise UsageError(f"submission {submission_id}: {found} was added already")
    consent_store.add_address(session, submission.id, found, actor=actor, note=note, at=now)
    cases.record(
        session, submission, "contributor", actor=actor, now=now,
        note=f"{found} counts as the contributor's address" + (f": {note}" if note else ""),
    )  # fmt: skip
    return AddressChange(submission.id, found, True)


def remove_address(
    session: Session, submission_id: int, address: str, *, actor: str, now: datetime, note: str
) -> AddressChange:
    """Stop counting ``address`` as the contributor's for a submission."""
    submission = submission_store.get_submission(session, submission_id, for_update=True)
    found = _address(address)
    if not consent_store.remove_address(session, submission.id, found):
        raise UsageError(f"submission {submission_id}: {found} is not an added address")
    cases.record(
        session, submission, "contributor", actor=actor, now=now,
        note=f"{found} no longer counts as the contributor's address"
        + (f": {note}" if note else ""),
    )  # fmt: skip
    return AddressChange(submission.id, found, False)


def _address(address: str) -> str:
    try:
        return normalise(address)
    except AddressError as exc:
        raise UsageError(str(exc)) from None
