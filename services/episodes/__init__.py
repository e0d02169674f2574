"""Episodes: folder layout, creation from URLs and uploads, stage status."""
