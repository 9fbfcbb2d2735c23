"""Electronic supervision (电子监察): cards, reminders, ratings, follow-ups, dashboards."""
