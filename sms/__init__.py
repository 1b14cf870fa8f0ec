"""SMS: texts to and from members through a provider (Twilio or Telnyx)."""
