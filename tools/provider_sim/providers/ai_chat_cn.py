"""DeepSeek, Qwen (DashScope compatible mode) and GLM (Zhipu) chat completions."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from aiohttp import web

from tools.provider_sim.providers.ai_chat import ChatProvider
from tools.provider_sim.providers.ai_verdict import Verdict
from tools.provider_sim.providers.base import json_response
from tools.provider_sim.quotas import QuotaDecision
from tools.provider_sim.urls import BASE_PATHS


class DeepSeek(ChatProvider):
    name = "deepseek"
    base_path: ClassVar[str] = BASE_PATHS["deepseek"]

    def bad_key(self, key: str | None) -> web.Response:
        shown = f"****{key[-4:]}" if key else "****"
        text = f"Authentication Fails, Your api key: {shown} is invalid"
        return self.openai_error(401, text, "authentication_error", "invalid_request_error")

    def server_error(self, status: int) -> web.Response:
        text = "Server overloaded, please try again later." if status == 503 else "Server error"
        return self.openai_error(status, text, "server_error", None)

    def decorate(
        self, answer: dict[str, Any], found: Verdict, prompt: int, completion: int
    ) -> dict[str, Any]:
        answer["choices"][0]["logprobs"] = None
        answer["usage"].update(
            {
                "prompt_tokens_details": {"cached_tokens": 0},
                "prompt_cache_hit_tokens": 0,
                "prompt_cache_miss_tokens": prompt,
            }
        )
        answer["system_fingerprint"] = "fp_sim_prod0820_fp8_kvcache"
        return answer


class Qwen(ChatProvider):
    name = "qwen"
    base_path: ClassVar[str] = BASE_PATHS["qwen"]

    def new_id(self) -> str:
        return f"chatcmpl-{uuid.UUID(self.request_id())}"

    def bad_key(self, key: str | None) -> web.Response:
        return self._error(
            401, "Incorrect API key provided. ", "invalid_request_error", "invalid_api_key"
        )

    def rate_limited(self, decision: QuotaDecision) -> web.Response:
        text = "Requests rate limit exceeded, please try again later."
        return self._error(429, text, "limit_requests", "limit_requests")

    def _error(self, status: int, message: str, kind: str, code: str) -> web.Response:
        error = {"message": message, "type": kind, "param": None, "code": code}
        return json_response(
            {"error": error, "request_id": str(uuid.UUID(self.request_id()))}, status
        )

    def decorate(
        self, answer: dict[str, Any], found: Verdict, prompt: int, completion: int
    ) -> dict[str, Any]:
        answer["choices"][0]["logprobs"] = None
        answer["usage"]["prompt_tokens_details"] = {"cached_tokens": 0}
        answer["system_fingerprint"] = None
        return answer


class Glm(ChatProvider):
    name = "glm"
    base_path: ClassVar[str] = BASE_PATHS["glm"]

    def _error(self, status: int, code: str, message: str) -> web.Response:
        return json_response({"error": {"code": code, "message": message}}, status)

    def bad_key(self, key: str | None) -> web.Response:
        if key is None:
            return self._error(401, "1001", "Header中未收到Authentication参数，无法进行身份验证。")
        return self._error(401, "1000", "身份验证失败。")

    def rate_limited(self, decision: QuotaDecision) -> web.Response:
        return self._error(
            429, "1302", "您当前使用该API的并发数过高，请降低并发，或联系客服增加限额。"
        )

    def server_error(self, status: int) -> web.Response:
        return self._error(status, "1305", "当前API请求过多，请稍后重试。")

    def decorate(
        self, answer: dict[str, Any], found: Verdict, prompt: int, completion: int
    ) -> dict[str, Any]:
        answer["request_id"] = answer["id"]
        answer["usage"]["prompt_tokens_details"] = {"cached_tokens": 0}
        return answer
