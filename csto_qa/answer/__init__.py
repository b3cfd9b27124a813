"""Answer: the lead sentence, the answer phrase, and knowing when the documents do not say."""
