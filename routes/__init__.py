"""Blueprints: one module each; `register_blueprints` wires them into the app."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Import and register every blueprint with its URL prefix."""
    from routes import (
        audio,
        auth,
        episodes,
        main,
        media,
        pipeline,
        presets,
        probe,
        prompts,
        script,
        segments,
        timelines,
    )
    from routes.errors import register_error_handlers
    from routes.workers import bp as workers_bp

    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(episodes.bp, url_prefix="/episodes")
    app.register_blueprint(timelines.bp, url_prefix="/episodes")
    app.register_blueprint(script.bp, url_prefix="/episodes")
    app.register_blueprint(probe.bp, url_prefix="/episodes")
    app.register_blueprint(media.bp, url_prefix="/media")
    app.register_blueprint(pipeline.bp, url_prefix="/pipeline")
    app.register_blueprint(presets.bp, url_prefix="/presets")
    app.register_blueprint(segments.bp, url_prefix="/segments")
    app.register_blueprint(audio.bp, url_prefix="/audio")
    app.register_blueprint(prompts.bp, url_prefix="/prompts")
    app.register_blueprint(workers_bp)
    register_error_handlers(app)
