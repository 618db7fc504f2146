"""What people look at: tables, figures and reports built from the store."""
