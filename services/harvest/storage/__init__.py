"""The storage service: images, thumbnails, snapshots, runs and models in an object store."""
