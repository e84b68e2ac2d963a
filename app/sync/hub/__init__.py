"""The venue hub: an organizer's laptop serving the sync contract to the venue's kiosks.

``server`` runs it (PostgreSQL beside the app with the server's own migrations, plus
``migrations/hub/hub.sql``), ``tls`` makes and pins its certificate, ``relay`` forwards between
it and the server, ``join`` and ``routing`` are the kiosk's side. No Qt here.
"""
