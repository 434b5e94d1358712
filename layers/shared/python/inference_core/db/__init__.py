"""DynamoDB: the PynamoDB models (the single source of every table's shape) and the repositories."""
