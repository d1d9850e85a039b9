"""One router per concern: search, documents, embeddings, and the service itself."""
