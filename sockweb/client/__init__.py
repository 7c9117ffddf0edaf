"""The client half: URLs in, Responses out, over pooled HTTP/1.1 connections."""
