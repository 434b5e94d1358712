"""The local stack: embedded AWS, the local SageMaker-compatible model server, and the pollers."""
