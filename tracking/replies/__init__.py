"""Replies to the founder's prospecting emails: read from the mailbox (IMAP) or handed over by an email
service's inbound webhook, sorted (auto-reply, bounce, unsubscribe, not interested, a person), tied to
the prospect, stored once. Detection (alerts/email_replies.py) turns a person's reply into a signal."""
