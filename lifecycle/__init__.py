"""Framework-free business rules: validation rules, numbering, deadlines and scope."""
