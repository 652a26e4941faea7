"""The shared driver of the exercise checks: value helpers, the table of cases runner and the error explainer.

A check is mostly data: a list of :class:`Case` (inputs, expected value, a name for the message) and, per case,
a table of typical mistakes, pairs ``(predicate on the wrong value, hint naming the mistake)``. :func:`run_cases`
calls the learner's function on each case in order and raises ``AssertionError`` with the first matching hint.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

# A typical mistake: a test on the learner's (wrong) value, and the hint shown when it holds.
Mistake = tuple[Callable[[float], bool], str]


def near(target: float, tol: float = 1e-4, rel: bool = False) -> Callable[[float], bool]:
    """A predicate: whether a value is within ``tol`` of ``target`` (absolute, or relative with ``rel``)."""
    if rel:
        return lambda got: math.isclose(got, target, rel_tol=tol)
    return lambda got: abs(got - target) < tol


def first_hint(got: float, mistakes: Sequence[Mistake], default: str = "") -> str:
    """The hint of the first mistake whose test holds for ``got``, else ``default``."""
    return next((hint for test, hint in mistakes if test(got)), default)


@dataclass(frozen=True)
class Case:
    """One known case of a check: the arguments, the expected value, its name and the hints when it is off."""

    args: tuple
    expected: float
    case: str
    hint: str = ""
    mistakes: Sequence[Mistake] = field(default_factory=tuple)
    tol: float = 1e-4
    what: str = ""  # the name in a message about the result's type, when not the check's own


def _scalar(value: object, what: str) -> float:
    """The float of a one-element tensor, or an AssertionError saying what the result should be."""
    if not isinstance(value, Tensor):
        raise AssertionError(f"{what} must return a torch.Tensor, got {type(value).__name__}")
    if value.numel() != 1:
        raise AssertionError(f"{what} must return a scalar (mean over the batch), got shape {tuple(value.shape)}")
    return float(value)


def _value(result: object, what: str) -> float:
    """Like ``_scalar``, without the warning that float() of a tensor that requires grad gives."""
    return _scalar(result.detach() if isinstance(result, Tensor) else result, what)


def _expect(got: float, expected: float, case: str, hint: str = "", tol: float = 1e-4) -> None:
    """Raise an AssertionError naming the case (and the hint) unless ``got`` is within ``tol`` of ``expected``."""
    if not math.isclose(got, expected, rel_tol=tol, abs_tol=tol):
        raise AssertionError(f"{case}: expected {expected:.6g}, got {got:.6g}. {hint}".strip())


def _backward(loss: Tensor, what: str) -> None:
    """Backpropagate the learner's result; a failure is a failed check that says how to build it."""
    try:
        loss.backward()
    except RuntimeError as err:
        raise AssertionError(
            f"{what}: autograd cannot differentiate your result ({err}). Build it from the input "
            "logits with torch operations only (no .item(), float() or NumPy)."
        ) from None


def _backward_from(loss: object, what: str, source: str) -> None:
    """Backpropagate the learner's result; a result autograd cannot follow is a failed check that says why."""
    if not isinstance(loss, Tensor) or loss.grad_fn is None:
        raise AssertionError(
            f"{what}: autograd cannot follow your result back to the {source} (no grad_fn): build it "
            f"from the {source} with torch operations only (no .detach(), .item(), float() or NumPy)"
        )
    loss.backward()


def _run(fn: Callable, what: str, *args: object, hint: str = "") -> object:
    """Call the learner's ``fn``, turning an exception into an AssertionError naming the inputs (and a hint)."""
    try:
        return fn(*args)
    except NotImplementedError:  # a blank passes through unchanged
        raise
    except Exception as err:  # noqa: BLE001 -- any error of the learner's code is a failed check
        shapes = ", ".join(str(tuple(a.shape)) if isinstance(a, Tensor) else repr(a) for a in args)
        message = str(err).rstrip(".")
        raise AssertionError(
            f"{what} raised {type(err).__name__} for inputs {shapes}: {message}. {hint}".strip()
        ) from None


def _tensor_out(result: object, what: str) -> Tensor:
    """The learner's result, which must be a tensor."""
    if not isinstance(result, Tensor):
        raise AssertionError(f"{what} must return a torch.Tensor, got {type(result).__name__}")
    return result


def _match(got: Tensor, candidates: dict[str, Tensor]) -> str:
    """The hint of the first candidate (a known mistake) that ``got`` equals, or ""."""
    for hint, value in candidates.items():
        if value.shape == got.shape and torch.allclose(got, value, rtol=1e-4, atol=1e-6):
            return hint
    return ""


def run_cases(
    fn: Callable,
    what: str,
    cases: Sequence[Case],
    value: Callable[[object, str], float] = _scalar,
    guarded: bool = False,
) -> None:
    """Run ``fn`` on each case in order; the first value off its expectation fails with the matching hint.

    ``value`` turns a result into a float (checking its type); with ``guarded`` an exception of ``fn`` becomes an
    AssertionError naming the inputs (see :func:`_run`).
    """
    for case in cases:
        result = _run(fn, what, *case.args) if guarded else fn(*case.args)
        got = value(result, case.what or what)
        _expect(got, case.expected, case.case, first_hint(got, case.mistakes, case.hint), case.tol)


def _concat_hint(got: tuple, first: tuple, second: tuple) -> str:
    """Name the usual mistake behind a wrong shape when joining two image batches (N, C, H, W) along the channels."""
    n, _, h, w = first
    mistakes = [
        (got == first, "that is the shape of the first tensor alone: the other one is missing (or was added to it)"),
        (got == second, "that is the shape of the second tensor alone: the other one is missing (or was added to it)"),
        (len(got) == 5, "torch.stack adds a new dimension; torch.cat joins along an existing one"),
        (got[0] == 2 * n, "you concatenated along dim=0, the batch: that makes more images, not more channels"),
        (
            len(got) == 4 and got[2] == 2 * h,
            "you concatenated along dim=2, the height: the images sit one above the other",
        ),
        (
            len(got) == 4 and got[3] == 2 * w,
            "you concatenated along dim=3, the width: side by side is the A|B file format, not a network's input",
        ),
    ]
    return next((hint for hit, hint in mistakes if hit), "concatenate along dim=1, the channels")


def _describe(value: object) -> str:
    """A short description of an argument: a tensor's shape and dtype, a module's class, else its type."""
    if isinstance(value, Tensor):
        return f"a {str(value.dtype).replace('torch.', '')} tensor of shape {tuple(value.shape)}"
    if isinstance(value, torch.nn.Module):
        return f"a {type(value).__name__} module"
    if isinstance(value, (int, float, str)):
        return repr(value)
    return f"a {type(value).__name__}"


def _explain_errors(check: Callable[..., None]) -> Callable[..., None]:
    """Wrap a ``check_*`` so that an exception raised inside the learner's function (not an AssertionError of the
    check) carries a note naming the function and the arguments the check gave it — or, for the blank's
    NotImplementedError, saying that the function is not written yet — then propagates unchanged."""

    @functools.wraps(check)
    def run(fn: object, *args: object, **kwargs: object) -> None:
        if not inspect.isfunction(fn):  # classes (the image pool) and other callables are passed through untouched
            return check(fn, *args, **kwargs)
        name = fn.__name__

        @functools.wraps(fn)
        def called(*a: object, **k: object) -> object:
            try:
                return fn(*a, **k)
            except Exception as err:
                if isinstance(err, NotImplementedError) and hasattr(err, "add_note"):
                    err.add_note(
                        f"\n>>> {name} is still the blank: replace its `raise NotImplementedError(...)` line "
                        "with your code, run that cell (Shift+Enter), then run this check again."
                    )
                elif hasattr(err, "add_note") and not isinstance(err, AssertionError):
                    given = ", ".join([_describe(v) for v in a] + [f"{key}={_describe(v)}" for key, v in k.items()])
                    err.add_note(
                        f"\n>>> This error was raised inside YOUR {name}, called by {check.__name__} with: "
                        f"{given}.\n>>> The traceback above points at the line of your code that failed; "
                        "compare the shapes there with the ones the exercise asks for."
                    )
                raise

        return check(called, *args, **kwargs)

    return run
