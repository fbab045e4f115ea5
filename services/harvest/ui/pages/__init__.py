"""One module per page; each exposes `render()` and reads the signed-in client from `harvest.ui.session`."""
