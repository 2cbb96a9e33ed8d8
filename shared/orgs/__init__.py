"""The org tree replica every service keeps, and the node filter built on it."""
