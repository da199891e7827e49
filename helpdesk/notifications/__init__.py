"""Notifications for members of staff: durable rows, created inside the change's transaction.

* :mod:`~helpdesk.notifications.tables`: the ``notifications`` table and each
  agent's choices per kind (``notification_settings``).
* :mod:`~helpdesk.notifications.kinds`: the kinds and their texts (msgids,
  translated when shown, in the reader's language).
* :mod:`~helpdesk.notifications.mentions`: finding ``@name`` in a note (pure).
* :mod:`~helpdesk.notifications.reactor`: the event reactor that writes them.
* :mod:`~helpdesk.notifications.services`: reading, marking read, choices.
* :mod:`~helpdesk.notifications.mail`: the durable job that mails one.
"""
