"""Sample-edition steps contributed by each flow (registered with `bot.sample.step`)."""
