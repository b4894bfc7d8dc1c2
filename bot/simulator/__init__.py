"""Local WeCom stand-in: fake server API, encrypted callback sender and a terminal chat."""

from bot.simulator.api import DEFAULT_AGENT_ID, DEFAULT_CORP_ID, DEFAULT_CORP_SECRET, Call, FakeWeCom
from bot.simulator.callbacks import DEFAULT_CALLBACK_PATH, CallbackClient, CallbackResponse, envelope, sign
from bot.simulator.chat import ChatSession, SimApi, run_chat
from bot.simulator.server import ServerHandle, serve_in_thread

__all__ = [
    "DEFAULT_AGENT_ID", "DEFAULT_CALLBACK_PATH", "DEFAULT_CORP_ID", "DEFAULT_CORP_SECRET", "Call",
    "CallbackClient", "CallbackResponse", "ChatSession", "FakeWeCom", "ServerHandle", "SimApi", "envelope",
    "run_chat", "serve_in_thread", "sign",
]
