"""What the server itself keeps: browser logins, database health, what the machine offers."""
