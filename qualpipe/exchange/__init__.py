"""Exchange with other tools: REFI-QDA projects, spreadsheets, and evaluators' code files."""
