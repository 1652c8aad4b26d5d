"""The supervision bulletin (督办通报): what it says (content), how it looks (document, pdf), issuing it (service)."""
