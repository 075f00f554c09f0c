"""Ledgers (台账) in spreadsheets: the household ledger read in, the office's ledgers written out.

Above `commands` and `queries`: an import is many office edits, so every good row goes
through the same domain commands as the forms (docs/ledger.md).
"""
