"""The hidden maintenance screen: staff pages, shown only after a PIN login."""
