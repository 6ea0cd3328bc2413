"""Where and in which number format a model runs: device and precision choice, CPU bf16 probing."""

from __future__ import annotations

from typing import Literal, get_args

from emolabel.errors import EmolabelError
from emolabel.inference.truncation import DEFAULT_HEAD_TOKENS  # here too, as CONTRACTS.md says

__all__ = [
    "DEFAULT_HEAD_TOKENS",
    "PRECISIONS",
    "Device",
    "Precision",
    "cpu_bf16_is_fast",
    "cpu_supports_bf16",
    "resolve_device",
    "resolve_precision",
    "torch_dtype",
]

Precision = Literal["auto", "fp32", "bf16", "fp16", "int8"]
# A device: one of these or "cuda:N" (a Literal cannot list every N), so functions take
# `Device | str`.
Device = Literal["auto", "cpu", "cuda", "mps"]
PRECISIONS: tuple[str, ...] = get_args(Precision)


def cpu_supports_bf16() -> bool:
    """True on CPUs with native bf16 math (AVX512-BF16 or AMX): bf16 runs there at all."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()) and _cpu_flag("avx512_bf16")
    except (AttributeError, RuntimeError):
        return False


def _cpu_flag(flag: str) -> bool:
    """Whether /proc/cpuinfo lists `flag` or the AMX bf16 unit (which implies bf16 math)."""
    flags = _cpuinfo_field("flags").split()
    return flag in flags or "amx_bf16" in flags


def _cpu_vendor() -> str:
    return _cpuinfo_field("vendor_id").strip()


def _cpuinfo_field(name: str) -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == name:
                    return value
    except OSError:
        pass
    return ""


def resolve_device(device: Device | str) -> str:
    """auto -> cuda, then mps, then cpu; anything else is checked and passed through."""
    import torch

    device = device.strip().lower()
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise EmolabelError(
                f"--device {device}: no CUDA GPU is visible to torch; use --device cpu or auto"
            )
        if ":" in device:
            try:
                index = int(device.split(":", 1)[1])
            except ValueError:
                raise EmolabelError(f"--device {device}: write cuda or cuda:N") from None
            if index >= torch.cuda.device_count():
                raise EmolabelError(
                    f"--device {device}: only {torch.cuda.device_count()} GPU(s) visible"
                )
        return device
    if device == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise EmolabelError("--device mps: MPS is not available here; use --device cpu")
        return device
    if device == "cpu":
        return device
    raise EmolabelError(f"--device {device}: choose auto, cpu, cuda, cuda:N or mps")


def cpu_bf16_is_fast() -> bool:
    """True where bf16 matrix products beat fp32 on this CPU, so auto picks bf16.

    That takes more than the AVX512-BF16 flag: AMX (Intel Sapphire Rapids and later) or an
    AMD core (Zen 4/5, where VDPBF16PS runs at twice the fp32 FMA rate). Intel cores with
    AVX512-BF16 but no AMX (Cooper Lake, or a VM that hides AMX) emulate much of a bf16
    GEMM and can run it slower than fp32: there auto stays at fp32.
    """
    if not cpu_supports_bf16():
        return False
    return _cpu_flag("amx_bf16") or _cpu_vendor() == "AuthenticAMD"


def resolve_precision(precision: Precision | str, device: str) -> str:
    """auto -> bf16/fp16 on GPU, bf16 on CPUs where bf16 is fast, fp32 otherwise."""
    import torch

    precision = precision.strip().lower()
    if precision not in PRECISIONS:
        raise EmolabelError(f"--precision {precision}: choose one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        if device.startswith("cuda"):
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        if device == "cpu" and cpu_bf16_is_fast():
            return "bf16"
        return "fp32"
    if precision == "int8" and device != "cpu":
        raise EmolabelError("--precision int8 runs on the CPU only; use --device cpu")
    if precision == "fp16" and device == "cpu":
        raise EmolabelError("--precision fp16 is slow or unsupported on CPU; use bf16 or fp32")
    return precision


def torch_dtype(precision: str) -> object:
    """The torch dtype weights are cast to for a resolved precision (not int8)."""
    import torch

    return {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[precision]
