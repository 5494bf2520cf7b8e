"""The customer's side of a case (issue 12): sign-in with number + ticket + one-time code,
the timeline in plain words, receipts the browser verifies, lodging and answering a decision.

    models.py   one-time codes (hashed) and e-mail addresses on file
    service.py  sign-in, the customer's view of a case, lodging, accepting, disputing
    proofs.py   per-entry C2SP tlog-proof receipts and the bundle the browser verifies
"""
