"""``cskit serve-rm`` and its clients: the CodeScaler reward served over HTTP for trl, verl and OpenRLHF.

* :mod:`cskit.serve.engine` -- the reward computed (``CodeScalerReward`` over the one ``RewardScorer``);
* :mod:`cskit.serve.batcher` -- dynamic batching of concurrent requests into one computation;
* :mod:`cskit.serve.app` -- the FastAPI endpoints (``/score``, OpenRLHF's ``/get_reward``, ``/health``),
  auth and caps; :mod:`cskit.serve.cli` -- ``cskit serve-rm`` (uvicorn);
* :mod:`cskit.serve.client` -- sync/async HTTP clients; :mod:`cskit.serve.trl_reward` -- picklable trl reward
  functions; :mod:`cskit.serve.framework_rewards` -- the reward-function file for verl (``compute_score``,
  ``custom_reward_function.path``) and OpenRLHF (``reward_func``, ``--remote_rm_url file.py``);
* :mod:`cskit.serve.process` -- a server as a child process (tests, benchmarks).

Importing this package imports neither torch nor fastapi.
"""
from cskit.serve.batcher import BatcherFull, DynamicBatcher
from cskit.serve.client import AsyncRMClient, RMClient, RMServerError, ScoreResult
from cskit.serve.process import ServerProcess
from cskit.serve.trl_reward import AsyncRemoteCodeScalerReward, RemoteCodeScalerReward, connect_remote_reward

__all__ = ["RMClient", "AsyncRMClient", "RMServerError", "ScoreResult", "RemoteCodeScalerReward",
           "AsyncRemoteCodeScalerReward", "connect_remote_reward", "ServerProcess", "DynamicBatcher", "BatcherFull"]
