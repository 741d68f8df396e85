"""The desktop window: Qt widgets live here and nowhere else in voicedesk."""
