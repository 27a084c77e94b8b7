"""Runtime pieces every Assistline service is assembled from. Imported, never run."""
