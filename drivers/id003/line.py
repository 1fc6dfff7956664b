"""The commands on the line, and which of them a reply from the acceptor answers.

ID-003 is half duplex and controller-driven (spec ID03-001E ch. 4): the
acceptor answers each command once, in turn.  Replies are matched to the
commands in flight in that order; a reply that comes after its response
window, up to :data:`LATE_REPLY_S` later, is still matched and acted on.

Every frame the controller writes gets an *order* number (rising, one per
write).  A status tells when it was true by the order of the request it
answers, so :func:`is_news` can say whether it describes the acceptor before
or after a command: time alone never decides it.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

from drivers.id003 import codec
from drivers.id003.codec import Command, Status, StatusReply

# Replies were seen arriving up to a second after their response window (a
# slow USB-serial adapter, an acceptor busy stacking): such a reply is still
# matched to its command and acted on.  A command waits for its reply twice
# that long: a reply that outlived its command would be taken for the answer
# to a newer one, and a stale status would then look fresh.
LATE_REPLY_S = 1.0
OPERATION_COMMANDS = frozenset({Command.RESET, Command.STACK_1, Command.STACK_2, Command.RETURN, Command.HOLD,
                                Command.WAIT})


@dataclass
class Sent:
    """A command on the line whose reply has not been read yet."""

    command: Command
    sent_at: float
    order: int  # which write it was: a later write has a larger number
    note_id: int | None = None  # the note a STACK-1/RETURN is for
    reply: codec.Reply | None = None
    given_up: bool = False  # its response window closed: a reply now is late


def answers(command: Command, reply: codec.Reply) -> bool:
    """Can ``reply`` be the acceptor's answer to ``command``?  (spec 6-2, 6-3, 6-5, 6-6)"""
    if isinstance(reply, StatusReply):
        if reply.status is Status.COMMUNICATION_ERROR:
            return True  # it could not read whatever we sent
        if reply.status is Status.INVALID_COMMAND:
            return command is not Command.STATUS_REQUEST
        return command is Command.STATUS_REQUEST
    if isinstance(reply, codec.Ack):
        return command in OPERATION_COMMANDS
    if isinstance(reply, codec.SettingEcho):
        return reply.command is command
    if isinstance(reply, codec.VersionInfo):
        return command is (Command.GET_BOOT_VERSION if reply.boot else Command.GET_VERSION)
    if isinstance(reply, codec.CurrencyAssignment):
        return command is Command.GET_CURRENCY_ASSIGN
    return False


def is_news(asked: int | None, since: int | None) -> bool:
    """Does a status asked for by write ``asked`` describe the acceptor after write ``since``?

    ``since`` is when the controller last told the acceptor something (a
    STACK-1/RETURN, an ACK to VEND VALID, a RESET).  A status answering a
    request written before then may predate that command, so it is no proof
    the command was lost and never makes the controller repeat it: STACK-1 or
    RETURN repeated on a stale ESCROW would act on whatever note is in escrow
    by then.  ``asked`` is None for a status that answers nothing still in
    flight (very late): it is never news.
    """
    if since is None:
        return True
    return asked is not None and asked > since


class InFlight:
    """The commands written whose replies have not come, oldest first."""

    def __init__(self, life_s: float) -> None:
        self.life_s = life_s  # requests are forgotten after this: a reply then cannot be theirs
        self.late_matches = 0  # replies matched to a command whose window had closed
        self._sent: collections.deque[Sent] = collections.deque()

    def add(self, sent: Sent) -> None:
        self._sent.append(sent)

    def clear(self) -> None:
        self._sent.clear()

    def expire(self, now: float) -> None:
        """Forget commands whose reply can no longer come."""
        oldest = now - self.life_s
        while self._sent and self._sent[0].sent_at < oldest:
            self._sent.popleft()

    def match(self, reply: codec.Reply) -> Sent | None:
        """The command in flight this reply answers: the oldest one it can answer.

        When a reply was lost (noise, a bad CRC) its command stays in flight,
        and the next reply is taken for its answer: a status then looks older
        than it is, never newer, so the controller may wait longer to repeat a
        command but never repeats one on a stale status.  Only a reply that no
        other command in flight could take (an echo, a version; not an ACK,
        which may be a stray one) puts the line back in step: every command
        sent before its own has certainly lost its reply.
        """
        candidates = [sent for sent in self._sent if answers(sent.command, reply)]
        if not candidates:
            return None
        sent = candidates[0]
        if len(candidates) == 1 and not isinstance(reply, codec.Ack):
            while self._sent[0] is not sent:
                self._sent.popleft()
        self._sent.remove(sent)
        sent.reply = reply
        if sent.given_up:
            self.late_matches += 1
        return sent
