"""Annual activity workbooks: template, validation, import, indicators and alerts."""
