"""What helps people and CI but is not deployed: the offline render and diff, the DAG gate, the
rehearsal and the real-cluster test. It imports the program (``components``); the program never
imports it, so ``pulumi up`` runs none of this."""
