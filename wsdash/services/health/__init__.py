"""Environment health: probes (docker.py, service.py, endpoints.py), the concurrent check runner
(check.py), results (model.py) and the board the dashboard and tier runner read (board.py)."""
