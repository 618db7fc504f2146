"""Topic modelling with BERTopic on cached embeddings, Danish-aware and reproducible."""
