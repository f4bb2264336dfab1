"""HTML pages: server-rendered forms that work without JavaScript, over the same domain
functions as the JSON API."""
