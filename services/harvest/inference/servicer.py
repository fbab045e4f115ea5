"""gRPC layer of the inference service: translates messages to the core's calls and back, nothing else."""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from harvest.common.auth import caller_token, current_principal
from harvest.common.errors import InvalidArgument
from harvest.common.peers import Caller
from harvest.common.server import Register, registrar
from harvest.inference import messages
from harvest.inference.export import ONNX, TORCHSCRIPT
from harvest.inference.predictor import Input, Options, Result
from harvest.inference.scoring import ScoreOptions
from harvest.inference.service import InferenceCore
from harvest.inference.tables import ModelRow
from harvest.v1 import common_pb2, inference_pb2, inference_pb2_grpc

FORMATS = {inference_pb2.EXPORT_FORMAT_TORCHSCRIPT: TORCHSCRIPT, inference_pb2.EXPORT_FORMAT_ONNX: ONNX}


def _caller(context: grpc.ServicerContext) -> Caller:
    return Caller(current_principal(), caller_token(context.invocation_metadata()))


def _options(config: inference_pb2.PredictConfig) -> Options:
    return Options(config.model_id, config.project_id, config.top_k, config.include_embeddings)


def _input(message: inference_pb2.PredictInput) -> Input:
    source = message.WhichOneof("source")
    return Input(message.image_id, message.image_bytes, message.client_key, has_source=source is not None)


def _result(row: ModelRow, result: Result, options: Options) -> inference_pb2.PredictResult:
    message = inference_pb2.PredictResult(index=result.index, client_key=result.source.client_key,
                                          image_id=result.source.image_id, error=result.error)
    if result.probabilities is not None:
        embedding = result.embedding if options.include_embeddings else None
        message.prediction.CopyFrom(messages.prediction(row, result.probabilities, embedding, options.top_k))
    return message


class InferenceServicer(inference_pb2_grpc.InferenceServiceServicer):
    """The inference service's RPCs over `InferenceCore`."""

    def __init__(self, core: InferenceCore) -> None:
        self.core = core

    def RegisterModel(self, request: inference_pb2.RegisterModelRequest,
                      context: grpc.ServicerContext) -> inference_pb2.RegisterModelResponse:
        done = self.core.register_model(_caller(context), request.job_id, promote=request.promote,
                                        score_pool=request.score_pool,
                                        flag_suspected_errors=request.flag_suspected_errors)
        return inference_pb2.RegisterModelResponse(model=messages.model(done.model),
                                                   scoring_operation_id=done.scoring_operation_id,
                                                   already_registered=done.already_registered)

    def ListModels(self, request: inference_pb2.ListModelsRequest,
                   context: grpc.ServicerContext) -> inference_pb2.ListModelsResponse:
        unknown = [s for s in request.statuses if s not in messages.STATUS_NAMES]
        if unknown:
            raise InvalidArgument(f"unknown model status {unknown[0]}; use READY, ACTIVE or ARCHIVED")
        kind = messages.KIND_NAMES.get(request.kind, "") if request.kind else ""
        rows, token, total = self.core.registry.list(
            _caller(context), request.project_id, [messages.STATUS_NAMES[s] for s in request.statuses], kind,
            request.page.page_size, request.page.page_token)
        return inference_pb2.ListModelsResponse(models=[messages.model(r) for r in rows],
                                                page=common_pb2.PageInfo(next_page_token=token, total_size=total))

    def GetModel(self, request: inference_pb2.GetModelRequest,
                 context: grpc.ServicerContext) -> inference_pb2.GetModelResponse:
        return inference_pb2.GetModelResponse(model=messages.model(self.core.registry.get(_caller(context),
                                                                                          request.model_id)))

    def PromoteModel(self, request: inference_pb2.PromoteModelRequest,
                     context: grpc.ServicerContext) -> inference_pb2.PromoteModelResponse:
        row, previous = self.core.registry.promote(_caller(context), request.model_id)
        return inference_pb2.PromoteModelResponse(model=messages.model(row), previous_model_id=previous)

    def ArchiveModel(self, request: inference_pb2.ArchiveModelRequest,
                     context: grpc.ServicerContext) -> inference_pb2.ArchiveModelResponse:
        row = self.core.registry.archive(_caller(context), request.model_id)
        self.core.runtime.drop(row.model_id)
        return inference_pb2.ArchiveModelResponse(model=messages.model(row))

    def Predict(self, request: inference_pb2.PredictRequest,
                context: grpc.ServicerContext) -> inference_pb2.PredictResponse:
        options = _options(request.config)
        row, results = self.core.predict(_caller(context), options, [_input(i) for i in request.inputs])
        return inference_pb2.PredictResponse(model_id=row.model_id, results=[_result(row, r, options) for r in results])

    def PredictStream(self, request_iterator: Iterator[inference_pb2.PredictStreamRequest],
                      context: grpc.ServicerContext) -> Iterator[inference_pb2.PredictResult]:
        first = next(request_iterator, None)
        if first is None or first.WhichOneof("payload") != "config":
            raise InvalidArgument("the first PredictStream message must be `config`")
        options = _options(first.config)

        def inputs() -> Iterator[Input]:
            for message in request_iterator:
                if message.WhichOneof("payload") != "input":
                    yield Input(has_source=False, client_key="(a second config message is ignored)")
                    continue
                yield _input(message.input)

        row, results = self.core.predict_stream(_caller(context), options, inputs())
        for result in results:
            yield _result(row, result, options)

    def ScorePool(self, request: inference_pb2.ScorePoolRequest,
                  context: grpc.ServicerContext) -> inference_pb2.ScorePoolResponse:
        options = ScoreOptions(request.unlabeled_only, request.flag_suspected_errors, request.include_embeddings)
        operation, already = self.core.score_pool(_caller(context), request.project_id, request.model_id, options,
                                                  request.force)
        return inference_pb2.ScorePoolResponse(operation_id=operation.operation_id, already_scored=already)

    def WatchScoring(self, request: inference_pb2.WatchScoringRequest,
                     context: grpc.ServicerContext) -> Iterator[inference_pb2.WatchScoringResponse]:
        for operation in self.core.scoring.watch(_caller(context), request.operation_id):
            if not context.is_active():
                return
            yield inference_pb2.WatchScoringResponse(operation=messages.operation(operation),
                                                     model_id=operation.model_id)

    def ExportModel(self, request: inference_pb2.ExportModelRequest,
                    context: grpc.ServicerContext) -> Iterator[inference_pb2.ExportModelResponse]:
        row, artifact, chunks = self.core.export(_caller(context), request.model_id,
                                                 FORMATS.get(request.format, ""), request.onnx_opset,
                                                 request.dynamic_batch)
        yield inference_pb2.ExportModelResponse(manifest=inference_pb2.ExportManifest(
            model_id=row.model_id, format=request.format, file_name=artifact.file_name,
            size_bytes=artifact.size_bytes, sha256=artifact.sha256, class_names=row.class_names,
            preprocessing=messages.preprocessing(row.preprocessing), input_shape=artifact.input_shape))
        for chunk in chunks:
            yield inference_pb2.ExportModelResponse(chunk=chunk)


def register_inference(core: InferenceCore) -> Register:
    return registrar(inference_pb2_grpc, "InferenceService", InferenceServicer(core))
