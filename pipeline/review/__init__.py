"""Human review of doubtful fields: the queue logic, the web app and the terminal commands.

`queue` holds every rule about who may decide what (claims, optimistic locking,
the audit trail); `app` and `commands` are thin front ends over it.
"""
