"""coopgov board-meetings service: the board's roster and mandates, its meetings and agendas,
the dossiers the delegated administration brings it, its votes and decisions, and the minutes
published to members (docs/board.md)."""

SERVICE_NAME = "board"
