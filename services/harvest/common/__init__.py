"""Code every HARVEST process shares: settings, the gRPC server bootstrap, auth, errors, object stores.

Nothing here imports a service, so every service (and the training job) can depend on it.
"""
