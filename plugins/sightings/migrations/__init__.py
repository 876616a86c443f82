"""SQL migrations of the sightings plugin."""
