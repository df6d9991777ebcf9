"""Where articles come from: files (replay); feeds arrive in a later issue."""
