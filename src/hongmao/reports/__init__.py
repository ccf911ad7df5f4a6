"""What the console and the REST API report, computed on the engine over one tenant's view of the lake."""
