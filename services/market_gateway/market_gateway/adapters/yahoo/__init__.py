"""Yahoo Finance chart API v8 (unofficial, no key): quotes from `meta`, bars from series."""
