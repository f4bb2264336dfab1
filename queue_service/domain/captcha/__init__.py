"""The captcha gate in front of booking (``gate``) and the image and audio it draws (``media``)."""
