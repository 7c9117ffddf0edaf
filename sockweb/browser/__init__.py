"""The terminal browser: parse -> layout -> display list -> paint."""
