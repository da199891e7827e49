"""The customer-facing side: self-service portal pages and the public web form."""
