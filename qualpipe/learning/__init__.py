"""What the learned models share: the linear head over hashed n-grams and e5 vectors, and the vector cache."""
