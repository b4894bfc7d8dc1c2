"""Workflow tests run without Flask, wechatpy or the bot."""
