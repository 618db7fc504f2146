"""What a user limited to some cases may see of a digest: those cases only, everywhere in it."""

from __future__ import annotations

from dataclasses import replace

from qualpipe.flagging.alerts import Digest


def digest_for(digest: Digest, user) -> Digest:
    """The digest as `user` (web.accounts.User) may see it. Failed files stay: a file cannot be attributed to a
    case, its message names the file and row only, and no case is calm while it is unread."""
    if not user.limited:
        return digest
    see = user.may_see
    return replace(
        digest,
        cases=[c for c in digest.cases if see(c.case_id)],
        check=[a for a in digest.check if see(a.case_id)],
        handled=[a for a in digest.handled if see(a.case_id)],
        quiet_cases=[c for c in digest.quiet_cases if see(c)],
        silent_cases=[c for c in digest.silent_cases if see(c)],
        notify_cases=[c for c in digest.notify_cases if see(c)],
        notify_reminder=any(see(c) for c in digest.notify_cases),
        open_earlier=[(c, ids) for c, ids in digest.open_earlier if see(c)],
        acknowledged_hidden=sum(1 for a in digest.handled if see(a.case_id)),
    )


def shown_cases(digest: Digest) -> set[str]:
    """Every case whose text the digest page shows (for the audit log when identities are shown)."""
    return {c.case_id for c in digest.cases} | {a.case_id for a in digest.check} | {a.case_id for a in digest.handled}
