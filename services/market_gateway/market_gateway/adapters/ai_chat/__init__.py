"""AI sentiment through one OpenAI-compatible chat adapter, configured per provider (xAI,
Perplexity, DeepSeek, Qwen via DashScope compatible mode, GLM), and their aggregate."""
