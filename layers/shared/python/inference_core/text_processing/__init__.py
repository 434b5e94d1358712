"""Ready text operations (summarize, sentiment, key points, questions, question answering) as
prompt templates over the inference service; see `operations` and `service`."""
